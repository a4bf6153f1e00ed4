"""Reusable widgets of the trainer GUI: plots, the confusion matrix, image galleries, hyperparameter forms."""
