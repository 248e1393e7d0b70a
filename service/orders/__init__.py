"""Orders: the cart, checkout with stock reservation, orders split per seller, fulfilment."""
