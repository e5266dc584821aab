/** Fixture for config.spec.ts: a config whose code throws while loading. */
throw new Error('boom while loading the config');
