"""Accompaniment and training sessions that follow the deployment."""
