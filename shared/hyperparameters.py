"""The setup's table of numbers, declared once, each field with what it sets.

Each variant gives every value in its own ``hyperparameters.py`` (``original/``: the question's,
keras-rl2's defaults where the question sets none; ``fixed/``: the fixed setup's), in the same
order, so ``diff -u original/hyperparameters.py fixed/hyperparameters.py`` lists every value a fix
changed, each with its tag. ``python -m original --help`` and ``python -m fixed --help`` show the
table; every run records it.
"""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Hyperparameters:
    """The setup's numbers; each field's docstring says what it sets. No defaults: a variant names every value."""

    nb_steps: int
    """Environment steps of the run, the policy checks (if any) included."""
    max_episode_steps: int
    """Steps of an episode before its time limit."""
    time_limit_is_terminal: bool
    """Store an episode's time limit as a terminal state (the critic then stops bootstrapping there)."""
    window_length: int
    """Observations per state (docs/window_length.md)."""
    memory_limit: Optional[int]
    """Transitions the replay memory holds (None: the whole run, at least 1,000)."""
    nb_steps_warmup_critic: int
    """Steps before the critic's first update."""
    nb_steps_warmup_actor: int
    """Steps before the actor's first update."""
    batch_size: int
    """Transitions per update."""
    gradient_steps: int
    """Updates per environment step, each on a batch of its own."""
    gamma: float
    """Discount of the next state's value in the critic's target."""
    target_model_update: float
    """Soft update rate of the target networks (tau)."""
    critic_learning_rate: float
    """Adam's step for the critic."""
    actor_learning_rate: float
    """Adam's step for the actor."""
    clipnorm: float
    """Both optimizers clip each gradient to this norm."""
    noise: str
    """Exploration noise added to the actor's output: 'ornstein-uhlenbeck' or 'gaussian'."""
    noise_sigma: float
    """The noise's standard deviation, in units of the [-1, 1] action range (at the start)."""
    noise_theta: Optional[float]
    """Ornstein-Uhlenbeck's pull towards 0 (None for Gaussian noise)."""
    noise_sigma_min: Optional[float]
    """The standard deviation at the end of the annealing (None: no annealing)."""
    noise_annealing_fraction: Optional[float]
    """Share of the run over which the noise anneals from noise_sigma to noise_sigma_min."""
    saturation_penalty: float
    """Weight of the actor's penalty for a pre-activation in tanh's flat tails (0: none)."""
    check_every: Optional[int]
    """Training steps between two checks of the noise-free policy (None: no checks)."""
