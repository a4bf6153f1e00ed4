"""The train-all pipeline: plan (family × variant × pack) jobs, run them in worker processes, record them."""
