"""The reliability suite (issue 13): promises about data safety, each module tests one."""
