"""This variant's numbers, in the table ``shared/hyperparameters.py`` declares (what each one sets).

``diff -u original/hyperparameters.py fixed/hyperparameters.py`` lists every value a fix changed,
each with its tag (docs/bugs.md).
"""
from shared.hyperparameters import Hyperparameters

HYPERPARAMETERS = Hyperparameters(
    nb_steps=5000,  # FIX-4: room to train; the learning bar allows at most 5,000
    max_episode_steps=10,  # FIX-12: the env's own time limit, a truncation, not a terminal state
    time_limit_is_terminal=False,  # FIX-12: a time limit is a truncation; keep bootstrapping through it
    window_length=1,
    memory_limit=None,  # FIX-5: the whole run, so nothing is forgotten before it is learnt from
    nb_steps_warmup_critic=200,  # FIX-4: a few hundred, well below the run
    nb_steps_warmup_actor=200,  # FIX-4
    batch_size=64,  # beyond FIX-4: the DDPG paper's batch; FIX-4's warmup fills one before the first update
    gradient_steps=2,  # IMPROVEMENT-3
    gamma=0.0,  # FIX-22: the next observation does not depend on the action
    target_model_update=1e-2,  # FIX-22: with gamma 0 the targets serve no target; this only sets how fast they follow
    critic_learning_rate=1e-3,
    actor_learning_rate=1e-5,  # IMPROVEMENT-2 (beyond FIX-6): 100 times slower than the critic
    clipnorm=1.0,
    noise='gaussian',  # FIX-11: independent draws, so the agent tries far-apart actions
    noise_sigma=0.6,  # FIX-11: broad at first
    noise_theta=None,  # FIX-11
    noise_sigma_min=0.05,  # FIX-11: then fine, to refine
    noise_annealing_fraction=0.6,  # FIX-11
    saturation_penalty=1.0,  # beyond FIX-6: lets a tanh actor come back from its flat tails
    check_every=50,  # IMPROVEMENT-1: check the noise-free policy, keep the best
)
