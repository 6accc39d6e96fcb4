# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 9. From scalars to vectors
#
# **What this notebook teaches.** gradflow differentiates one number at a time; textbooks and
# fast libraries write a whole layer as one line of linear algebra. They are the same
# computation, arranged differently. Here you will
#
# 1. set a layer's scalar graph (one node per multiply and add) beside its vector form
#    z = W·y + b, and get the same numbers from both;
# 2. write the layer's backward pass as two matrix products, ∂L/∂W = δ·yᵀ and ∂L/∂y = Wᵀ·δ, with
#    numpy, and check them against the scalar engine, gradient by gradient;
# 3. chain two layers the same way (the lectures' layer notation) and meet a slip in the decks;
# 4. go from one sample to a batch: the same products with a matrix of samples, and gradflow's
#    batched replay, which records one sample's scalar graph and runs it over the whole batch.

# %%
import numpy as np

from engine import Value
from engine.replay import trace
from nn import MLP, Layer
from viz import draw

# %% [markdown]
# ## One layer, two ways
#
# A layer of three neurons reads two inputs. Neuron j computes z_j = Σ_i w_ji·y_i + b_j: two
# multiplies and two adds per neuron, six multiplies and six adds in all, each a node of the
# scalar graph. Stack the weights in a matrix W with one *row* per neuron and one *column* per
# input, and the three sums are one matrix-vector product:
#
# z = W·y + b,   W of shape (3, 2), y of shape (2,), b and z of shape (3,).
#
# `nn.Layer` builds the scalar version. With `activation="linear"` its outputs are the z's
# themselves; we apply the sigmoid ourselves so that z stays visible.

# %%
y_values, targets, seed = [0.5, -1.5], [1.0, 0.0, 0.5], 0   # change these

layer = Layer(2, 3, activation="linear", seed=seed)
for neuron in layer.neurons:                       # give the biases a value, so b shows up in the sums
    neuron.b.data = 0.1
y = [Value(v, f"y{i + 1}") for i, v in enumerate(y_values)]
z = layer(y)                                       # three Values, one per neuron
a = [zj.sigmoid() for zj in z]
squares = [(aj - tj) ** 2 for aj, tj in zip(a, targets)]
L = 0.5 * sum(squares[1:], squares[0])             # squared error over the three outputs (no "0 +" node)
L.label = "L"
L.backward()

W = np.array([[w.data for w in neuron.w] for neuron in layer.neurons])   # row j: neuron j's weights
b = np.array([neuron.b.data for neuron in layer.neurons])
z_vector = W @ np.array(y_values) + b
print("W =\n", W.round(4))
print("scalar graph z:", np.round([zj.data for zj in z], 6))
print("W·y + b:       ", z_vector.round(6))
draw(L, legend=False)

# %% [markdown]
# ## The backward pass as two matrix products
#
# Write δ for the gradient at the sums, δ_j = ∂L/∂z_j. Everything else follows from it:
#
# * a weight w_ji multiplies y_i into z_j, so ∂L/∂w_ji = δ_j·y_i (product switches). All of them at
#   once form the *outer product* **∂L/∂W = δ·yᵀ**, a (3, 1)·(1, 2) = (3, 2) matrix, the shape of W.
# * an input y_i feeds every neuron, each through its own weight w_ji, and the paths add (split
#   adds): ∂L/∂y_i = Σ_j w_ji·δ_j, which is **∂L/∂y = Wᵀ·δ**.
# * the bias adds straight into z_j: ∂L/∂b = δ.
#
# With the sigmoid and squared error, δ = (a − t) ⊙ σ'(z), where ⊙ multiplies entry by entry:
# the activation acts on each neuron alone, so its backward is elementwise, not a matrix product.

# %%
a_vector = 1 / (1 + np.exp(-z_vector))
delta = (a_vector - np.array(targets)) * a_vector * (1 - a_vector)   # ∂L/∂z, elementwise
dW = np.outer(delta, y_values)                                      # δ·yᵀ
dy = W.T @ delta                                                    # Wᵀ·δ
engine_dW = np.array([[w.grad for w in neuron.w] for neuron in layer.neurons])
print("δ = ∂L/∂z:  numpy", delta.round(6), "  engine", np.round([zj.grad for zj in z], 6))
print("∂L/∂W = δ·yᵀ:\n", dW.round(6), "\nengine:\n", engine_dW.round(6))
print("∂L/∂y = Wᵀ·δ: numpy", dy.round(6), "  engine", np.round([v.grad for v in y], 6))
print("∂L/∂b = δ:    engine", np.round([n.b.grad for n in layer.neurons], 6))
print("all equal to rounding:", np.allclose(dW, engine_dW, atol=1e-12) and np.allclose(dy, [v.grad for v in y], atol=1e-12))

# %% [markdown]
# The scalar engine did the same multiplications, just one at a time: the six entries of δ·yᵀ are
# the six "product switches" of the graph, and the two entries of Wᵀ·δ are its two "split adds".
#
# ## Two layers: the lectures' layer notation
#
# Deck 001 numbers layers from the input: y⁽⁰⁾ = x, then z⁽ᵏ⁾ = W⁽ᵏ⁾·y⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾ and
# y⁽ᵏ⁾ = f_k(z⁽ᵏ⁾). The backward pass runs the same three lines per layer, from the top down:
#
# 1. δ⁽ᵏ⁾ = ∂L/∂y⁽ᵏ⁾ ⊙ f_k'(z⁽ᵏ⁾) (through the activation, elementwise);
# 2. ∂L/∂W⁽ᵏ⁾ = δ⁽ᵏ⁾·y⁽ᵏ⁻¹⁾ᵀ (the weights, from the layer's *input*);
# 3. ∂L/∂y⁽ᵏ⁻¹⁾ = W⁽ᵏ⁾ᵀ·δ⁽ᵏ⁾ (handed down to the layer below).
#
# Below, a 2–2–1 network from `nn.MLP` (tanh hidden layer, linear output) run both ways.

# %%
x_values, target = [0.8, -0.4], 1.0   # change these

mlp = MLP(2, [2, 1], activation="tanh", seed=1)
out = mlp(x_values)[0]
loss = 0.5 * (out - target) ** 2
loss.backward()


def weights(layer):
    return (np.array([[w.data for w in n.w] for n in layer.neurons]), np.array([n.b.data for n in layer.neurons]))


(W1, b1), (W2, b2) = weights(mlp.layers[0]), weights(mlp.layers[1])
y0 = np.array(x_values)
z1 = W1 @ y0 + b1
y1 = np.tanh(z1)
z2 = W2 @ y1 + b2                      # linear output: y2 = z2
delta2 = z2 - target                   # ∂L/∂z2 for L = ½(y2 − t)²
dW2 = np.outer(delta2, y1)
delta1 = (W2.T @ delta2) * (1 - y1**2)  # down through W2, then through tanh
dW1 = np.outer(delta1, y0)             # the first layer's input is y⁽⁰⁾ = x
engine_dW1 = np.array([[w.grad for w in n.w] for n in mlp.layers[0].neurons])
print("∂L/∂W(1), numpy:\n", dW1.round(6), "\nengine:\n", engine_dW1.round(6))
print("∂L/∂W(2), numpy:", dW2.round(6), "  engine:", np.round([w.grad for w in mlp.layers[1].neurons[0].w], 6))

# %% [markdown]
# > **Erratum — deck 001_ae477276b4929235.txt** (the last slide of "Backward Gradient
# > Computation")
# >
# > **The slide says** ∂Div/∂w_ij⁽¹⁾ = y_i⁽¹⁾ · ∂Div/∂z_j⁽¹⁾. **What is right:** a weight of layer 1
# > multiplies the layer's *input*, so the factor is y_i⁽⁰⁾ = x_i: ∂Div/∂w_ij⁽¹⁾ = y_i⁽⁰⁾·∂Div/∂z_j⁽¹⁾,
# > as in the deck's own general rule ∂Div/∂w_ij⁽ᵏ⁾ = y_i⁽ᵏ⁻¹⁾·∂Div/∂z_j⁽ᵏ⁾ two slides earlier.
# >
# > **Check:** the engine's ∂L/∂W(1) against both versions on the network above.

# %%
print("engine", engine_dW1.ravel().round(5), "  y⁽⁰⁾·δ⁽¹⁾", np.outer(delta1, y0).ravel().round(5),
      "  slide's y⁽¹⁾·δ⁽¹⁾", np.outer(delta1, y1).ravel().round(5))

# %% [markdown]
# > **Erratum — deck 001_ae477276b4929235.txt** (four index slips in the layer notation)
# >
# > 1. **"Gradients: Backward Computation"** writes the output layer's step as
# >    ∂Div/∂z_i⁽ᴺ⁾ = f'_k(z_i⁽ᴺ⁾)·∂Div/∂y_i⁽ᴺ⁾. **Right:** the output layer's own derivative, **f'_N**;
# >    k is the loop variable of the layers below.
# > 2. **A "Backward Gradient Computation" slide** writes ∂Div/∂y_1⁽¹⁾ = Σ_j w_ij⁽²⁾·∂Div/∂z_j⁽²⁾.
# >    **Right:** the left side is unit 1, so the weights are **w_1j⁽²⁾**, the ones leaving y_1⁽¹⁾ (as the
# >    deck writes it one layer up, for y_1⁽ᴺ⁻¹⁾).
# > 3. **"Vector formulation"** gives b_k the entries b_1⁽ᵏ⁾, …, b_D⁽ᵏ⁾ with D = D_(k+1). **Right:** one bias per
# >    neuron of layer k, so **D_k** entries, like z_k; z_k = W_k·y_(k−1) + b_k adds two vectors of the
# >    same length.
# > 4. **"Backward Pass"**, inside the loop over i = 1 … D_k, writes
# >    ∂Div/∂w_ji⁽ᵏ⁺¹⁾ = y_j⁽ᵏ⁾·∂Div/∂z_i⁽ᵏ⁺¹⁾ for j = 1 … D_(k+1). Here j counts the outputs of layer k,
# >    of which there are D_k, and i the neurons of layer k+1, of which there are D_(k+1): both ranges
# >    are the wrong way round. Changing only j's range would leave i wrong. **Right:** the deck's own
# >    summary slide, ∂Div/∂w_ij⁽ᵏ⁺¹⁾ = y_i⁽ᵏ⁾·∂Div/∂z_j⁽ᵏ⁺¹⁾ for j = 1 … D_(k+1).
# >
# > **Check:** on the 2–2–1 network above (D₀ = 2, D₁ = 2, D₂ = 1): the output's δ with f'_2, the
# > sizes of b⁽¹⁾ and ∂L/∂W⁽²⁾, and ∂L/∂y_1⁽¹⁾ from the weights leaving y_1⁽¹⁾, against the engine.

# %%
print(f"1. δ⁽²⁾ = f'_2·∂L/∂y⁽²⁾ = 1 × {delta2[0]:.6f} (linear output);",
      f"with f'_1 = tanh' it would be {(1 - np.tanh(z2[0]) ** 2) * delta2[0]:.6f}")
hidden_out = mlp.layers[0](x_values)                 # y⁽¹⁾ as Values, so the engine reports ∂L/∂y⁽¹⁾
(0.5 * (mlp.layers[1](hidden_out)[0] - target) ** 2).backward()
print(f"2. ∂L/∂y_1⁽¹⁾: engine {hidden_out[0].grad:.6f}, Σ_j w_1j⁽²⁾·δ_j⁽²⁾ = {W2[:, 0] @ delta2:.6f}")
print(f"3. b⁽¹⁾ has {len(b1)} entries = D₁ (D₂ = {len(b2)})")
print(f"4. ∂L/∂W⁽²⁾ has shape {dW2.shape} = (D₂, D₁): j over layer 2's D₂ neurons, i over layer 1's D₁ outputs")

# %% [markdown]
# ## From one sample to a batch
#
# With B samples, put them in the rows of a matrix Y (shape B × inputs). The forward pass of a
# layer becomes one matrix-matrix product, Z = Y·Wᵀ + b, and the backward pass two more: with Δ
# the B × neurons matrix of every sample's δ, the gradient of the *mean* loss is
# ∂L/∂W = Δᵀ·Y / B, the per-sample outer products summed by the product itself. That is why
# numpy (and a GPU) is fast at this: one call does B × neurons × inputs multiplications.
#
# gradflow uses the same idea to train on a batch without building one graph per sample: its
# batched replay, `engine.replay.trace`, records the graph of *one* sample's loss and then runs it
# for the whole batch at once, each layer as the matrix products above.
#
# Below: one batch, three ways. The eager loop builds one scalar graph per sample; the replay
# records one and runs it over the batch; numpy writes the matrix products out. All three give
# the same gradient.

# %%
batch_size, hidden, seed = 64, 8, 0   # change these

rng = np.random.default_rng(seed)
X = rng.normal(size=(batch_size, 2))
t = np.sin(X[:, 0]) + 0.5 * X[:, 1]              # a target to regress
net = MLP(2, [hidden, 1], activation="tanh", seed=seed)
params = net.parameters()


def sample_loss(x, target):
    """One sample's loss: x is a list of two Values, target one Value."""
    return 0.5 * (net(x)[0] - target) ** 2


# 1. eager: one graph per sample, the mean built from Values
net.zero_grad()
eager = sum(sample_loss(list(row), float(ti)) for row, ti in zip(X.tolist(), t)) * (1 / batch_size)
eager.backward()
eager_grads = np.array([p.grad for p in params])

# 2. the replay: record one sample's graph, run it over the batch
net.zero_grad()
tape = trace(sample_loss)
replay_loss = tape.run(X, t)
tape.backward()
replay_grads = np.array([p.grad for p in params])

# 3. numpy: the layer equations with the batch in the rows
(W1, b1), (W2, b2) = weights(net.layers[0]), weights(net.layers[1])
Z1 = X @ W1.T + b1                  # (B, hidden)
Y1 = np.tanh(Z1)
Z2 = Y1 @ W2.T + b2                 # (B, 1)
D2 = (Z2[:, 0] - t)[:, None] / batch_size   # each sample's δ at the output, times 1/B for the mean
D1 = (D2 @ W2) * (1 - Y1**2)        # (B, hidden): Wᵀ·δ for every sample at once, then tanh'
numpy_grads = np.concatenate([np.column_stack([D1.T @ X, D1.sum(axis=0)]).ravel(),
                              np.concatenate([(D2.T @ Y1).ravel(), D2.sum(axis=0)])])

print(f"loss: eager {eager.data:.10f}, replay {replay_loss:.10f}")
print(f"largest gradient difference: eager vs replay {np.abs(eager_grads - replay_grads).max():.1e}, "
      f"eager vs numpy {np.abs(eager_grads - numpy_grads).max():.1e}")
print(f"first layer, forward: X·W1ᵀ is {X.shape} · {W1.T.shape} → {Z1.shape}, one row per sample")
print(f"first layer, backward: Δ1ᵀ·X is {D1.T.shape} · {X.shape} → {(D1.T @ X).shape}, the shape of W1: "
      f"the product sums the {batch_size} samples' outer products δ·xᵀ")

# %% [markdown]
# (The numpy gradients are laid out in `nn`'s parameter order: for each neuron its weights, then
# its bias; the rows of Δᵀ·X are the neurons.)
#
# All three agree to rounding. `nn.fit` trains with the replay whenever every sample's graph is
# the same (not with dropout, which draws a new mask per sample, nor where a Python `if` on a
# value can take another branch); notebook 5 times the difference.
