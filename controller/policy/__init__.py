"""YAML policies: models, the position-keeping loader, checks, validation and the schema.

Import from the submodules: `models`/`located` are pure (the core uses them); `loader` reads
files with ruamel.yaml.
"""
