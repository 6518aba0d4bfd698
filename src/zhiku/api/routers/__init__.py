"""One router module per resource; ``ROUTERS`` lists them in the order the app mounts them."""
