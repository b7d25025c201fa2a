"""The core: where backpropagation happens. Activations and losses with their derivatives,
initializers, layers, the network (forward pass, public backward pass, one flat parameter
buffer), gradient checking and the compiled elementwise kernels. Imports nothing above it."""

__all__ = []
