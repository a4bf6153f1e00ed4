"""The trainer GUI (`eyevsai-trainer`): build packs, train, inspect, tune, manage and publish models offline."""
