"""Code the course notebooks share. Each function is taught in a notebook first, then imported here.

- ``helpers.data``: verified MNIST (``fetch_mnist``, ``load_mnist``, ``data_root``).
- ``helpers.device``: ``get_device``.
- ``helpers.seed``: ``set_seed``.
"""
