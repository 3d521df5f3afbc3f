/**
 * Node's flags that run Parley from its TypeScript sources: the
 * `@parley/source` export condition makes every `@parley/*` import resolve
 * to `src/` (without it, to the built `dist/`), and tsx compiles the
 * TypeScript as it loads. For test processes that start another Node
 * process (a service, a fixture) from sources; the built output needs
 * neither (`node bin/parley.mjs <name>`).
 */
export const SOURCE_NODE_FLAGS: readonly string[] = ["--conditions=@parley/source", "--import", "tsx"];
