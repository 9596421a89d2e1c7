"""Code the course notebooks share. Training code is taught in a notebook first, then imported from here.

- ``helpers.data``: verified MNIST (``fetch_mnist``, ``load_mnist``, ``data_root``); notebook 07 looks inside.
- ``helpers.device``: ``get_device`` (cuda, mps or cpu).
- ``helpers.seed``: ``set_seed``.
- ``helpers.train``: the training loop (``get_data``, ``fit``, ``evaluate``, ...), taught in notebook 08.
- ``helpers.distributed``: launching and checking DistributedDataParallel on one CPU, notebook 13.
- ``helpers.fast``: the fast CPU recipe (``fast_cnn``, ``train_fast``, ``bf16_is_fast``, ...), taught in notebook 14.
- ``helpers/hub/hubconf.py``: the ``torch.hub`` entry point loaded offline in notebook 11.
- ``helpers.exercises``: ``ex1.check()``, ``ex1.hint()``, ``ex1.solution()`` for every notebook's exercises.
- ``helpers.doctor``: ``python -m helpers.doctor`` compares this machine with the locked versions.
"""
