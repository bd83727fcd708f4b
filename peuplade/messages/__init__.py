"""Private conversations between neighbours."""
