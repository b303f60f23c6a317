"""Settings modules: ``base`` declares every setting from the environment; the others adjust it."""
