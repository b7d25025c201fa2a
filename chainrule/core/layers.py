"""Layers: ``Dense`` (an affine map and an activation), ``Dropout`` and ``Embedding`` (learned
embeddings of one-hot columns).

A layer's parameters are views into its network's flat buffer; the layer never owns them and
never rebinds them (optimizers write into the same memory). Buffers for the forward and backward
pass are allocated once per batch size and reused, so a training step allocates little.
"""

from __future__ import annotations

import numpy as np

from . import activations, initializers
from . import kernels as _kernels
from .validation import CONSTRAINTS, check_finite, check_int, check_real

__all__ = ["Dense", "Dropout", "Embedding"]

Array = np.ndarray


class Dense:
    """A fully connected layer: ``Z = X @ W + b``, ``A = f(Z)``.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of neurons.
    activation : str, dict or Activation, default='identity'
        The activation ``f`` (see :mod:`chainrule.core.activations`).
    weight_init, bias_init : str, default='auto' and 'zeros'
        Initializer names (see :mod:`chainrule.core.initializers`); ignored where ``W``/``b`` given.
    W : array-like of shape (n_in, n_out), optional
        Explicit initial weights; ``W[i, j]`` connects input ``i`` to neuron ``j``.
    b : array-like of shape (n_out,), optional
        Explicit initial biases.
    train_weights, train_biases : bool, default=True
        False holds that part fixed: its gradient is reported as 0 and training never moves it
        (textbook examples often keep biases constant).
    input_scale : float in [1e-6, 1e6] or None, default=None
        None: none. A positive ``c``: a learned scale ``s_i`` of each input, initialised to 1
        and applied before the weights, ``Z = (X * s) @ W + b``, as RealMLP's scaling layer
        (Holzmueller et al., 2024), which lets training weigh each input as a whole. The
        parameter stored is ``u = s / c``: an Adam step moves each ``u`` by about the learning
        rate whatever its gradient's size, so it moves ``s`` about ``c`` times as far as it
        moves a weight (with SGD, ``c**2`` times).

    Notes
    -----
    Backward pass, with ``delta = dE/dZ`` already scaled by ``1/n`` (or ``w_i/n``)::

        dW = X.T @ delta
        db = sum over samples of delta
        dE/dX = delta @ W.T

    With an input scale the layer applies ``V = diag(s) W`` (:attr:`effective_W`), and with
    ``dV = X.T @ delta``::

        dW = diag(s) dV
        dE/du_i = c * sum over j of W_ij dV_ij
        dE/dX = delta @ V.T
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation="identity",
        *,
        weight_init="auto",
        bias_init="zeros",
        W=None,
        b=None,
        train_weights: bool = True,
        train_biases: bool = True,
        input_scale: float | None = None,
    ):
        self.n_in = check_int(n_in, "n_in", low=1)
        self.n_out = check_int(n_out, "n_out", low=1)
        self.activation = activations.get(activation)
        self.weight_init = initializers.check_name(weight_init, "weight_init")
        self.bias_init = initializers.check_name(bias_init, "bias_init")
        self._initial_W = None if W is None else self._given(W, (self.n_in, self.n_out), "W")
        self._initial_b = None if b is None else self._given(b, (self.n_out,), "b")
        self.train_weights = bool(train_weights)
        self.train_biases = bool(train_biases)
        self.input_scale = CONSTRAINTS["input_scale"].check(input_scale, "input_scale")
        self._workspace: dict[int, dict[str, Array]] = {}
        self.cache: tuple[Array, Array, Array] | None = None
        self.keep_net_input = False
        # the output softmax's log-normaliser from the last kept pass, for the loss's value
        self.log_norm: Array | None = None

    @staticmethod
    def _given(values, shape, name) -> Array:
        array = np.asarray(values, dtype=np.float64)
        if array.shape != shape:
            raise ValueError(f"{name!r} must have shape {shape}, got shape {array.shape}")
        check_finite(array, name)
        return array

    @property
    def n_params(self) -> int:
        scales = 0 if self.input_scale is None else self.n_in
        return self.n_in * self.n_out + self.n_out + scales

    @property
    def scales(self) -> Array | None:
        """The input scale ``s = c * u`` (a new array), or None without one."""
        return None if self.input_scale is None else self.u * self.u.dtype.type(self.input_scale)

    @property
    def effective_W(self) -> Array:
        """The weights the layer applies: ``W``, or ``diag(s) W`` with an input scale."""
        return self.W if self.input_scale is None else self.W * self.scales[:, None]

    def bind(self, params: Array, grads: Array, rng: np.random.Generator) -> None:
        """Make ``W``, ``b``, ``dW``, ``db`` (and ``u``, ``du``) views of the given slices and
        initialise them (``s = 1``)."""
        split, end = self.n_in * self.n_out, self.n_in * self.n_out + self.n_out
        self.W = params[:split].reshape(self.n_in, self.n_out)
        self.b = params[split:end]
        self.dW = grads[:split].reshape(self.n_in, self.n_out)
        self.db = grads[split:end]
        if self.input_scale is not None:
            self.u, self.du = params[end:], grads[end:]
            self.u[...] = 1.0 / self.input_scale
        fans = (self.n_in, self.n_out)
        self.W[...] = (
            self._initial_W
            if self._initial_W is not None
            else initializers.initialize(self.weight_init, rng, self.W.shape, *fans)
        )
        self.b[...] = (
            self._initial_b
            if self._initial_b is not None
            else initializers.initialize(self.bias_init, rng, self.b.shape, *fans)
        )
        self._workspace.clear()

    def _buffers(self, n: int, dtype) -> dict[str, Array]:
        buffers = self._workspace.get(n)
        if buffers is None:
            if len(self._workspace) >= 4:  # a fit uses at most two sizes (full and last batch)
                self._workspace.clear()
            buffers = {"Z": np.empty((n, self.n_out), dtype)}  # dX: made when first needed
            # an activation whose derivative reads only A is computed in place, over Z, unless
            # Z itself is wanted (the output layer's, for a loss computed from the logits)
            in_place = not (self.activation.needs_z or self.keep_net_input)
            buffers["A"] = buffers["Z"] if in_place else np.empty((n, self.n_out), dtype)
            buffers["dZ"] = np.empty((n, self.n_out), dtype)
            self._workspace[n] = buffers
        return buffers

    def forward(self, X: Array, *, keep: bool = False, rng=None) -> Array:
        """Return ``A = f(X @ W + b)``; with ``keep`` cache ``X, Z, A`` for :meth:`backward`.

        Kept results live in reused buffers (overwritten by the next kept pass); results
        computed without ``keep`` are fresh arrays.
        """
        if not keep:
            Z = X @ self.effective_W
            Z += self.b
            return self.activation.forward(Z, Z)
        buffers, kernels = self._buffers(X.shape[0], self.W.dtype), _kernels.current()
        self._V = self.effective_W  # the weights this pass applied, for the backward pass
        if isinstance(X, np.ndarray):
            Z = np.dot(X, self._V, out=buffers["Z"])
        else:  # a scipy sparse matrix: sparse @ dense, never densified
            Z = buffers["Z"]
            Z[...] = X @ self._V
        if self.keep_net_input and self.activation.forward_log_norm is not None:
            A, self.log_norm = kernels.bias_softmax(Z, self.b, self.activation, buffers["A"])
        else:
            A = kernels.bias_activation(Z, self.b, self.activation, buffers["A"])
            self.log_norm = None
        self.cache = (X, Z, A)
        return A

    def backward(
        self, grad: Array, *, preactivation: bool = False, need_input_grad: bool = True
    ) -> Array | None:
        """Write ``dW``, ``db`` and return ``dE/dX``.

        ``grad`` is ``dE/dA`` (scaled by ``1/n``), or ``dE/dZ`` itself when ``preactivation``
        (the fused output delta). Frozen weights or biases get a zero gradient.
        """
        X, Z, A = self.cache
        buffers, kernels = self._buffers(X.shape[0], self.W.dtype), _kernels.current()
        if not preactivation:
            grad = kernels.activation_backward(grad, Z, A, self.activation, buffers["dZ"])
        delta = grad
        scaled = self.input_scale is not None
        if (self.train_weights or scaled) and not isinstance(X, np.ndarray):
            self.dW[...] = X.T @ delta  # scipy sparse input
        elif self.train_weights or scaled:
            np.dot(X.T, delta, out=self.dW)
        else:
            self.dW.fill(0.0)
        if scaled:
            self._scale_gradients()
        if self.train_biases:
            kernels.column_sums(delta, self.db)
        else:
            self.db.fill(0.0)
        if not need_input_grad:
            return None
        if "dX" not in buffers:
            buffers["dX"] = np.empty((X.shape[0], self.n_in), self.W.dtype)
        return np.dot(delta, self._V.T, out=buffers["dX"])

    def _scale_gradients(self) -> None:
        """With ``dW`` holding ``dV = X.T @ delta``: ``du = c * rowsum(W * dV)``, then
        ``dW = diag(s) dV`` (or 0 for frozen weights)."""
        np.einsum("ij,ij->i", self.W, self.dW, out=self.du)
        self.du *= self.du.dtype.type(self.input_scale)
        if self.train_weights:
            self.dW *= self.scales[:, None]
        else:
            self.dW.fill(0.0)

    def __getstate__(self) -> dict:
        # the last batch (cache) and the buffers are not part of the layer: never pickled
        state = {**self.__dict__, "cache": None, "_workspace": {}, "log_norm": None}
        state.pop("_V", None)
        return state

    def config(self) -> dict:
        """The layer's architecture as JSON-ready data (parameters excluded)."""
        return {
            "type": "Dense",
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation.config(),
            "train_weights": self.train_weights,
            "train_biases": self.train_biases,
        } | ({} if self.input_scale is None else {"input_scale": self.input_scale})

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation.name!r})"


class Dropout:
    """Inverted dropout: while training, zero each input with probability ``rate`` and scale the
    rest by ``1 / (1 - rate)``; at predict time the layer passes its input through unchanged.

    Parameters
    ----------
    rate : float in [0, 1)
        The probability of dropping a unit.
    """

    n_params = 0

    def __init__(self, rate: float = 0.5):
        self.rate = check_real(rate, "rate", low=0.0, high=1.0, high_open=True)
        self._mask: Array | None = None

    def bind(self, params: Array, grads: Array, rng: np.random.Generator) -> None:
        """Dropout has no parameters."""

    def forward(self, X: Array, *, keep: bool = False, rng=None) -> Array:
        """Mask and rescale ``X`` when ``rng`` is given (training); otherwise return ``X``. Only a
        pass that keeps what backward needs (``keep``) replaces the mask, so a prediction in
        another thread leaves a training step's mask alone."""
        if rng is None or self.rate == 0.0:
            if keep:
                self._mask = None
            return X
        scale = X.dtype.type(1.0 / (1.0 - self.rate))
        self._mask = (rng.random(X.shape, dtype=X.dtype) >= self.rate) * scale
        return X * self._mask

    def backward(
        self, grad: Array, *, preactivation: bool = False, need_input_grad: bool = True
    ) -> Array | None:
        """``dE/dX = dE/dY * mask / (1 - rate)``."""
        if not need_input_grad:
            return None
        return grad if self._mask is None else grad * self._mask

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_mask": None}  # the last batch's mask is not pickled

    def config(self) -> dict:
        return {"type": "Dropout", "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"


class Embedding:
    """Learned embeddings of categorical columns given as groups of one-hot inputs: each group
    of ``k`` inputs ``X_g`` becomes ``width`` numbers ``X_g @ E_g`` (``E_g`` of shape
    ``(k, width)``, learned), the other inputs pass through unchanged. The first layer of a
    network, before its first Dense layer, as the embeddings of RealMLP (Holzmueller et al.,
    2024) and Keras's ``Embedding`` layer, which look up the row of ``E_g`` that a category's
    index names: on a 0/1 one-hot group the product is that lookup. (The table route feeds
    standardised one-hot inputs, ``(h - m) / s``: then ``X_g @ E_g`` is the looked-up row of
    ``diag(1/s) E_g`` less a constant, the same family of maps.)

    Parameters
    ----------
    n_in : int
        The number of inputs.
    groups : list of (start, stop)
        The inputs ``start`` to ``stop - 1`` of each embedded column; groups are disjoint and
        in increasing order, each of at least one input.
    width : int in [1, 4096]
        The embedding's width, the same for every group.

    Notes
    -----
    The outputs are the inputs outside every group, in their order, then each group's
    ``width`` embedding numbers, in the groups' order: ``n_out = n_in - sum(k) +
    len(groups) * width``. ``E_g`` starts as ``N(0, 1/k)``, so that each embedding number of a
    standardised one-hot group has about unit variance. With ``delta = dE/dY`` of the group's
    outputs::

        dE_g = X_g.T @ delta_g
        dE/dX_g = delta_g @ E_g.T

    With at most :data:`ONE_PRODUCT_INPUTS` inputs and a tables matrix of at most
    :data:`ONE_PRODUCT_ENTRIES` entries, every group is formed in one product ``X @ T``, ``T``
    holding each ``E_g`` in its rows and columns (zeros elsewhere; faster than a product per
    group when the inputs are few, whatever the number of groups); otherwise one product per
    group, so that memory and work stay linear in the parameters. The network's L2 and L1
    penalties do not reach ``E`` (as Keras's ``Embedding``, whose regulariser is off by
    default).
    """

    def __init__(self, n_in: int, groups, width: int):
        self.n_in = check_int(n_in, "n_in", low=1)
        self.width = check_int(width, "width", low=1, high=CONSTRAINTS["embedding_size"].high)
        self.groups = _checked_groups(groups, self.n_in)
        grouped = np.zeros(self.n_in, dtype=bool)
        for start, stop in self.groups:
            grouped[start:stop] = True
        self._passed = np.flatnonzero(~grouped)
        self.n_out = len(self._passed) + len(self.groups) * self.width
        entries = self.n_in * len(self.groups) * self.width
        self._one_product = self.n_in <= ONE_PRODUCT_INPUTS and entries <= ONE_PRODUCT_ENTRIES
        self._where = self._positions() if self._one_product else None
        self.cache = None

    def _positions(self) -> Array:
        """The parameters' flat positions, in their order, in the tables matrix ``T``."""
        n_columns = len(self.groups) * self.width
        blocks = [
            np.arange(start, stop)[:, None] * n_columns + group * self.width + np.arange(self.width)
            for group, (start, stop) in enumerate(self.groups)
        ]
        return np.concatenate(blocks or [np.zeros((0, 1), int)], axis=None)

    @property
    def n_params(self) -> int:
        return sum(stop - start for start, stop in self.groups) * self.width

    def bind(self, params: Array, grads: Array, rng: np.random.Generator) -> None:
        """Make each group's ``E_g`` and ``dE_g`` views of the given slices; draw ``E_g``."""
        self._E, self._dE = params, grads
        self.E, self.dE, position = [], [], 0
        for start, stop in self.groups:
            k = stop - start
            end = position + k * self.width
            self.E.append(params[position:end].reshape(k, self.width))
            self.dE.append(grads[position:end].reshape(k, self.width))
            self.E[-1][...] = initializers.initialize("lecun_normal", rng, (k, self.width), k, 0)
            position = end
        self._tables = None

    def _columns(self, group: int) -> slice:
        """The group's embedding numbers among the outputs after the passed inputs."""
        return slice(group * self.width, (group + 1) * self.width)

    def _tables_now(self, keep: bool) -> Array:
        """``T`` as the optimizer last wrote the tables: in a reused matrix for a training pass,
        a new one otherwise (a prediction in another thread writes nothing shared)."""
        T = self._tables if keep else None
        if T is None:
            T = np.zeros((self.n_in, len(self.groups) * self.width), self._E.dtype)
        T.ravel()[self._where] = self._E
        if keep:
            self._tables = T
        return T

    def forward(self, X: Array, *, keep: bool = False, rng=None) -> Array:
        """Return the passed inputs, then every ``X_g @ E_g``, as a new array; with ``keep``
        cache ``X`` for :meth:`backward`."""
        passed = len(self._passed)
        Y = np.empty((X.shape[0], self.n_out), self._E.dtype)
        Y[:, :passed] = X[:, self._passed]
        embedded = Y[:, passed:]
        if self._one_product:
            embedded[...] = X @ self._tables_now(keep)
        else:
            for group, (start, stop) in enumerate(self.groups):
                embedded[:, self._columns(group)] = X[:, start:stop] @ self.E[group]
        if keep:
            self.cache = (X, None, Y)
        return Y

    def backward(
        self, grad: Array, *, preactivation: bool = False, need_input_grad: bool = True
    ) -> Array | None:
        """Write every ``dE_g = X_g.T @ delta_g`` and return ``dE/dX`` (when needed):
        ``delta_g @ E_g.T`` for each group, ``delta`` for each passed input."""
        X, embedded = self.cache[0], grad[:, len(self._passed) :]
        if self._one_product:  # the entries of X.T @ delta_E at the tables' places
            np.take(np.asarray(X.T @ embedded).ravel(), self._where, out=self._dE)
        else:
            for group, (start, stop) in enumerate(self.groups):
                np.dot(X[:, start:stop].T, embedded[:, self._columns(group)], out=self.dE[group])
        if not need_input_grad:
            return None
        dX = np.empty((X.shape[0], self.n_in), grad.dtype)
        dX[:, self._passed] = grad[:, : len(self._passed)]
        for group, (start, stop) in enumerate(self.groups):
            dX[:, start:stop] = embedded[:, self._columns(group)] @ self.E[group].T
        return dX

    def folded(self, V: Array) -> Array:
        """``M @ V`` for the layer's matrix ``M`` (``Y = X @ M``) and a next layer's weights
        ``V`` of shape ``(n_out, m)``: the weights of the two as one layer, formed a group at a
        time (the ONNX export's first layer)."""
        passed = len(self._passed)
        out = np.empty((self.n_in, V.shape[1]), np.result_type(V, self._E))
        out[self._passed] = V[:passed]
        for group, (start, stop) in enumerate(self.groups):
            out[start:stop] = self.E[group] @ V[passed:][self._columns(group)]
        return out

    def __getstate__(self) -> dict:
        return {**self.__dict__, "cache": None, "_tables": None}

    def config(self) -> dict:
        """The layer's architecture as JSON-ready data (parameters excluded)."""
        groups = [[start, stop] for start, stop in self.groups]
        return {"type": "Embedding", "n_in": self.n_in, "groups": groups, "width": self.width}

    def __repr__(self) -> str:
        return f"Embedding({self.n_in}, {len(self.groups)} groups, width={self.width})"


#: An Embedding forms every group in one product while its inputs are at most this many
#: (measured: a product per group costs about 2 microseconds more each, one product over the
#: zeros of the other groups about 0.1 ns per input, batch and number; 32 rows at width 4 break
#: even near 500 inputs) ...
ONE_PRODUCT_INPUTS = 512
#: ... and its tables matrix has at most this many entries (4 MiB in float32), whatever a
#: model file declares.
ONE_PRODUCT_ENTRIES = 2**20


def _checked_groups(groups, n_in: int) -> list[tuple[int, int]]:
    """``groups`` as a list of ``(start, stop)`` pairs, or ValueError naming the first bad one."""
    checked, end = [], 0
    for position, group in enumerate(groups):
        pair = tuple(group) if isinstance(group, (list, tuple, np.ndarray)) else ()
        if len(pair) != 2:
            raise ValueError(f"groups[{position}] must be a (start, stop) pair, got {group!r}")
        start = check_int(pair[0], f"groups[{position}] start", low=0)
        stop = check_int(pair[1], f"groups[{position}] stop", low=start + 1, high=n_in)
        if start < end:
            raise ValueError(
                f"groups[{position}] = {group!r} overlaps or precedes the group before it "
                f"(which ends at {end}); expected disjoint groups in increasing order"
            )
        checked.append((start, stop))
        end = stop
    return checked
