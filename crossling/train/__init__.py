"""Training on crossling corpora: streaming data, model presets, the loop, checkpoints.

``corpus`` opens a published corpus version for training, ``data`` streams and packs it,
``models`` holds the presets, ``loop`` is the one training loop (accelerate), ``pretrain`` and
``finetune`` build a run for each objective, ``checkpoint`` writes and reads checkpoints and
``run`` resolves and runs a whole training run from a :class:`~crossling.train.config.TrainConfig`.
"""
