"""hardware_models."""
