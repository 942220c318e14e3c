"""A goal env and its DDPG as scripts wrote them in 2019, for tests of `python -m stepsignal diagnose`.

Written for this kit (not copied from anywhere), in the shape the question's script has and that
OpenAI's robotics post of 2018 taught: a `gym.GoalEnv` (gone since gym 0.22) with the three-key
Dict observation and a batched `compute_reward`, flattened for keras-rl by
`gym.wrappers.FlattenDictWrapper` (gone since gym 0.15.4), the observation first and the goal after.
A point on a plane moves by the action towards a goal; reaching it ends the episode.
"""
import numpy as np
import gym
from gym import spaces
from gym.envs.registration import register
from keras.models import Sequential, Model
from keras.layers import Dense, Flatten, Input, Concatenate
from keras.optimizers import Adam
from rl.agents import DDPGAgent
from rl.memory import SequentialMemory
from rl.random import OrnsteinUhlenbeckProcess


class PointReach(gym.GoalEnv):
    def __init__(self):
        self.goal = np.array([0.5, -0.25])
        self.action_space = spaces.Box(-0.1, 0.1, shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Dict(dict(
            observation=spaces.Box(-1., 1., shape=(2,), dtype=np.float32),
            achieved_goal=spaces.Box(-1., 1., shape=(2,), dtype=np.float32),
            desired_goal=spaces.Box(-1., 1., shape=(2,), dtype=np.float32)))

    def _obs(self):
        return {'observation': self.position.astype(np.float32), 'achieved_goal': self.position.astype(np.float32),
                'desired_goal': self.goal.astype(np.float32)}

    def reset(self):
        super(PointReach, self).reset()
        self.position = np.zeros(2)
        return self._obs()

    def step(self, action):
        self.position = np.clip(self.position + np.clip(action, -0.1, 0.1), -1, 1)
        obs = self._obs()
        reward = self.compute_reward(obs['achieved_goal'], obs['desired_goal'], {})
        return obs, reward, bool(reward == 0), {'is_success': reward == 0}

    def compute_reward(self, achieved_goal, desired_goal, info):
        return -(np.linalg.norm(achieved_goal - desired_goal, axis=-1) > 0.05).astype(np.float32)


register(id='PointReach-v0', entry_point=PointReach, max_episode_steps=50)
env = gym.make('PointReach-v0')
env = gym.wrappers.FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal'])
nb_actions = env.action_space.shape[0]

actor = Sequential()
actor.add(Flatten(input_shape=(1,) + env.observation_space.shape))
actor.add(Dense(32, activation='relu'))
actor.add(Dense(nb_actions, activation='tanh'))

action_input = Input(shape=(nb_actions,), name='action_input')
observation_input = Input(shape=(1,) + env.observation_space.shape, name='observation_input')
features = Dense(32, activation='relu')(Flatten()(observation_input))
x = Dense(32, activation='relu')(Concatenate()([features, action_input]))
critic = Model(inputs=[action_input, observation_input], outputs=Dense(1)(x))

agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                  memory=SequentialMemory(limit=10000, window_length=1), nb_steps_warmup_critic=50,
                  nb_steps_warmup_actor=50, random_process=OrnsteinUhlenbeckProcess(size=nb_actions, theta=.15,
                                                                                    sigma=.05),
                  gamma=.98, target_model_update=1e-3)
agent.compile(Adam(lr=1e-3), metrics=['mae'])
agent.fit(env, nb_steps=2000, visualize=False, verbose=0)
