"""Entity resolution: the home catalog as an index built once per catalog version."""
