"""Performance predictors behind one scikit-learn interface, and their evaluation harness."""
