"""This variant's numbers, in the table ``shared/hyperparameters.py`` declares (what each one sets).

``diff -u original/hyperparameters.py fixed/hyperparameters.py`` lists every value a fix changed,
each with its tag (docs/bugs.md).
"""
from shared.hyperparameters import Hyperparameters

HYPERPARAMETERS = Hyperparameters(
    nb_steps=10,  # BUG-4: shorter than either warmup below
    max_episode_steps=5,  # BUG-12: fit's nb_max_episode_steps, stored as a terminal state
    time_limit_is_terminal=True,  # BUG-12: keras-rl's fit stores every episode's end as terminal
    window_length=1,
    memory_limit=2000,  # BUG-5: forgets 8,000 steps before the actor's warmup ends
    nb_steps_warmup_critic=2000,  # BUG-4
    nb_steps_warmup_actor=10000,  # BUG-4
    batch_size=32,  # keras-rl2's default
    gradient_steps=1,  # keras-rl2: one update per step
    gamma=0.99,  # BUG-22: discounts a future this task does not have
    target_model_update=1e-3,
    critic_learning_rate=1e-3,
    actor_learning_rate=1e-3,  # the question's one Adam(lr=1e-3) serves both networks
    clipnorm=1.0,
    noise='ornstein-uhlenbeck',  # BUG-11: with dt=1e-2 almost constant within an episode
    noise_sigma=0.3,  # BUG-11
    noise_theta=0.6,  # BUG-11
    noise_sigma_min=None,
    noise_annealing_fraction=None,
    saturation_penalty=0.0,
    check_every=None,
)
