"""The training engine: run directories, data preparation, Lightning fits, cross-validation, evaluation."""
