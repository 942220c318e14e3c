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

    nb_steps: int = 5000  # FIX-4: room to train; the learning bar allows at most 5,000
    """Environment steps of the run, the policy checks (if any) included."""
    max_episode_steps: int = 10  # FIX-12: the env's own time limit, a truncation, not a terminal state
    """Steps of an episode before its time limit."""
    time_limit_is_terminal: bool = False  # FIX-12: a time limit is a truncation; keep bootstrapping through it
    """Store an episode's time limit as a terminal state (the critic then stops bootstrapping there)."""
    window_length: int = 1
    """Observations per state (docs/window_length.md)."""
    memory_limit: Optional[int] = None  # FIX-5: the whole run, so nothing is forgotten before it is learnt from
    """Transitions the replay memory holds (None: the whole run, at least 1,000)."""
    nb_steps_warmup_critic: int = 200  # FIX-4: a few hundred, well below the run
    """Steps before the critic's first update."""
    nb_steps_warmup_actor: int = 200  # FIX-4
    """Steps before the actor's first update."""
    batch_size: int = 64  # beyond FIX-4: the DDPG paper's batch; FIX-4's warmup fills one before the first update
    """Transitions per update."""
    gradient_steps: int = 2  # IMPROVEMENT-3
    """Updates per environment step, each on a batch of its own."""
    gamma: float = 0.0  # FIX-22: the next observation does not depend on the action
    """Discount of the next state's value in the critic's target."""
    target_model_update: float = 1e-2  # FIX-22: with gamma 0 the targets serve no target; this only sets how fast they follow
    """Soft update rate of the target networks (tau)."""
    critic_learning_rate: float = 1e-3
    """Adam's step for the critic."""
    actor_learning_rate: float = 1e-5  # IMPROVEMENT-2 (beyond FIX-6): 100 times slower than the critic
    """Adam's step for the actor."""
    clipnorm: float = 1.0
    """Both optimizers clip each gradient to this norm."""
    noise: str = 'gaussian'  # FIX-11: independent draws, so the agent tries far-apart actions
    """Exploration noise added to the actor's output: 'ornstein-uhlenbeck' or 'gaussian'."""
    noise_sigma: float = 0.6  # FIX-11: broad at first
    """The noise's standard deviation, in units of the [-1, 1] action range (at the start)."""
    noise_theta: Optional[float] = None  # FIX-11
    """Ornstein-Uhlenbeck's pull towards 0 (None for Gaussian noise)."""
    noise_sigma_min: Optional[float] = 0.05  # FIX-11: then fine, to refine
    """The standard deviation at the end of the annealing (None: no annealing)."""
    noise_annealing_fraction: Optional[float] = 0.6  # FIX-11
    """Share of the run over which the noise anneals from noise_sigma to noise_sigma_min."""
    saturation_penalty: float = 1.0  # beyond FIX-6: lets a tanh actor come back from its flat tails
    """Weight of the actor's penalty for a pre-activation in tanh's flat tails (0: none)."""
    check_every: Optional[int] = 50  # IMPROVEMENT-1: check the noise-free policy, keep the best
    """Training steps between two checks of the noise-free policy (None: no checks)."""


HYPERPARAMETERS = Hyperparameters()
