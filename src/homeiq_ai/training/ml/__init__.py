"""Trainers and scorers of the training module; torch is imported inside the functions that train or load."""
