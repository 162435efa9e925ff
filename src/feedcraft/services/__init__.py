"""L3 services: the only layer that combines storage and algorithms."""
