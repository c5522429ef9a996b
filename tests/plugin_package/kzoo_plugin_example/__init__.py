"""An example kzoo plugin: models registered through the `kzoo.models` entry points."""
