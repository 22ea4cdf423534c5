/**
 * The event protocol and the names it uses, for every consumer (server, web, clients): defined
 * once in the db package (`@glm-workers/db/events`, `@glm-workers/db/enums`), re-exported here.
 * Browser-safe: imports only zod.
 */
export * from "@glm-workers/db/enums";
export * from "@glm-workers/db/events";
