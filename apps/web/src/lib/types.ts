import type { trpc } from "./trpc.ts";

type Output<T extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<T>>;

/** Row shapes as the API returns them (inferred from the server router, never redeclared). */
export type Project = Output<typeof trpc.projects.get.query>;
/** A spec with its chunks in order (`specs.get`). */
export type SpecDetail = Output<typeof trpc.specs.get.query>;
export type Spec = Output<typeof trpc.specs.update.mutate>;
export type Chunk = SpecDetail["chunks"][number];

export type ChunkStatus = Chunk["status"];
export type ReviewStatus = NonNullable<Chunk["reviewStatus"]>;
