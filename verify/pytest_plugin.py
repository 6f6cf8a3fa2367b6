"""pytest plugin (entry point ``sigadmm``): fixtures for checking convergence in user suites."""
