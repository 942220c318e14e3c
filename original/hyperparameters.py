"""Every number of the setup, declared once, in one table.

``original/hyperparameters.py`` holds the question's values (keras-rl2's defaults where the
question sets none); ``fixed/hyperparameters.py`` holds the fixed setup's. The two files have
the same fields in the same order, so ``diff -u original/hyperparameters.py
fixed/hyperparameters.py`` lists every value a fix changed, each with its tag. ``python -m
original --help`` and ``python -m fixed --help`` show the table; every run records it.
"""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Hyperparameters:
    """The setup's numbers; each field's docstring says what it sets."""

    nb_steps: int = 10  # BUG-4: shorter than either warmup below
    """Environment steps of the run, the policy checks (if any) included."""
    max_episode_steps: int = 5  # BUG-12: fit's nb_max_episode_steps, stored as a terminal state
    """Steps of an episode before its time limit."""
    time_limit_is_terminal: bool = True  # BUG-12: keras-rl's fit stores every episode's end as terminal
    """Store an episode's time limit as a terminal state (the critic then stops bootstrapping there)."""
    window_length: int = 1
    """Observations per state (docs/window_length.md)."""
    memory_limit: Optional[int] = 2000  # BUG-5: forgets 8,000 steps before the actor's warmup ends
    """Transitions the replay memory holds (None: the whole run, at least 1,000)."""
    nb_steps_warmup_critic: int = 2000  # BUG-4
    """Steps before the critic's first update."""
    nb_steps_warmup_actor: int = 10000  # BUG-4
    """Steps before the actor's first update."""
    batch_size: int = 32  # keras-rl2's default
    """Transitions per update."""
    gradient_steps: int = 1  # keras-rl2: one update per step
    """Updates per environment step, each on a batch of its own."""
    gamma: float = 0.99  # BUG-22: discounts a future this task does not have
    """Discount of the next state's value in the critic's target."""
    target_model_update: float = 1e-3
    """Soft update rate of the target networks (tau)."""
    critic_learning_rate: float = 1e-3
    """Adam's step for the critic."""
    actor_learning_rate: float = 1e-3  # the question's one Adam(lr=1e-3) serves both networks
    """Adam's step for the actor."""
    clipnorm: float = 1.0
    """Both optimizers clip each gradient to this norm."""
    noise: str = 'ornstein-uhlenbeck'  # BUG-11: with dt=1e-2 almost constant within an episode
    """Exploration noise added to the actor's output: 'ornstein-uhlenbeck' or 'gaussian'."""
    noise_sigma: float = 0.3  # BUG-11
    """The noise's standard deviation, in units of the [-1, 1] action range (at the start)."""
    noise_theta: Optional[float] = 0.6  # BUG-11
    """Ornstein-Uhlenbeck's pull towards 0 (None for Gaussian noise)."""
    noise_sigma_min: Optional[float] = None
    """The standard deviation at the end of the annealing (None: no annealing)."""
    noise_annealing_fraction: Optional[float] = None
    """Share of the run over which the noise anneals from noise_sigma to noise_sigma_min."""
    saturation_penalty: float = 0.0
    """Weight of the actor's penalty for a pre-activation in tanh's flat tails (0: none)."""
    check_every: Optional[int] = None
    """Training steps between two checks of the noise-free policy (None: no checks)."""


HYPERPARAMETERS = Hyperparameters()
