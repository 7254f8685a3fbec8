/**
 * The provider-neutral resource contract (see DESIGN.md "Resources and the engine").
 * A provider implements one ResourceKind per kind of cloud object; the engine
 * plans, creates, adopts and destroys through this contract alone.
 */

/** Identifies what a stack owns: written as tags/labels on every taggable resource. */
export interface StackTags {
  /** The stack's name (`--name`), e.g. "default". */
  stack: string;
  /** The state lineage (a uuid fixed when the stack is first created). */
  stackId: string;
  /** The node key inside the stack, e.g. "subnet-private-a". */
  key: string;
}

/** What the engine hands to create(): an idempotency token, the tags, a progress sink. */
export interface CreateContext {
  /** Stable for this node across retries and crashes (EC2 ClientToken, GCP requestId). */
  token: string;
  tags: StackTags;
  /** Reports a long wait's own status ("creating", "backing-up") to the progress view. */
  progress(message: string): void;
  /** A warning the user must see in the run's output (e.g. a duplicate deleted after a lost answer). */
  warn?(message: string): void;
  /**
   * True when `token` is an earlier, interrupted create's, whose resource
   * find() did not see: sent again it may return that resource (not visible
   * by tags yet), one since deleted, or a refusal of a changed request.
   */
  retried?: boolean;
  /** What that earlier create settled through remember() (e.g. the AMI it chose). */
  request?: Record<string, string>;
  /** Writes what this create settled into the write-ahead record before the create call, so a retry sends the same request. */
  remember?(request: Record<string, string>): Promise<void>;
  /**
   * Retires the token (it answered for a resource that no longer exists, or
   * for another request) and returns a new one, written ahead first: a
   * retired token is never sent again.
   */
  retireToken?(): Promise<string>;
}

/** Context for delete(): progress for slow deletes (RDS). */
export interface DeleteContext {
  tags: StackTags;
  progress(message: string): void;
}

/** A resource's identifier and outputs as recorded in state. */
export interface Created<Out> {
  id: string;
  out: Out;
}

/** Result of diff(): whether the live resource still matches the desired spec. */
export type DiffResult = "same" | "update" | "replace";

/** One kind of cloud object, e.g. "aws.ec2.vpc". All methods are idempotent. */
export interface ResourceKind<Spec = unknown, Out = unknown> {
  type: string;
  /** Refreshes a resource by id; undefined means it is gone. One API call where possible. */
  read(id: string, prev: Out | undefined): Promise<Out | undefined>;
  /**
   * Finds a resource by its stack tags (adoption after a crash); undefined if none.
   * `spec` is best-effort (undefined when a dependency's outputs are unknown).
   */
  find(tags: StackTags, spec: Spec | undefined): Promise<Created<Out> | undefined>;
  create(spec: Spec, ctx: CreateContext): Promise<Created<Out>>;
  /** Deletes; already gone is success. `out` is the last recorded output (may be undefined). */
  delete(id: string, out: Out | undefined, ctx: DeleteContext): Promise<void>;
  /**
   * Compares the desired spec with the live outputs. Missing means "same".
   * `disruptive` marks an in-place update that interrupts the resource (a VM
   * stopped and started to change its size): the user is asked first, as for
   * a replace.
   */
  diff?(spec: Spec, out: Out): { result: DiffResult; reason?: string; disruptive?: boolean };
  update?(id: string, spec: Spec, out: Out): Promise<Out>;
  /**
   * The outputs a create will have that the spec already fixes (a
   * deterministic name), so the planner can diff a dependent of a
   * resource still to be (re)created without calling every output unknown.
   */
  knownOutputs?(spec: Spec): Partial<Out>;
}

/** Outputs of a node's dependencies, keyed by node key. */
export type DepOutputs = Record<string, any>;

/** A node of a stack's resource graph. */
export interface StackNode<Spec = any, Out = any> {
  key: string;
  kind: ResourceKind<Spec, Out>;
  dependsOn: string[];
  /** Builds the desired spec from the outputs of the dependencies. Pure. */
  spec(deps: DepOutputs): Spec;
}

/** Actions a plan can hold (Terraform's vocabulary, trimmed). */
export type Action = "create" | "keep" | "update" | "replace" | "delete";

/** One line of a plan. */
export interface PlannedChange {
  key: string;
  type: string;
  action: Action;
  reason: string;
  /** An update that interrupts the resource (see ResourceKind.diff): asked for like a replace. */
  disruptive?: boolean;
  /** The resource's current id, when it has one. */
  id?: string;
}

/** Events the engine emits; the human and JSON renderers consume the same stream. */
export type EngineEvent =
  | { type: "plan"; changes: PlannedChange[] }
  | { type: "start"; key: string; action: Action | "adopt" | "check" }
  | { type: "progress"; key: string; message: string }
  | { type: "done"; key: string; action: Action | "adopt" | "check"; id?: string }
  | { type: "failed"; key: string; error: string }
  | { type: "skipped"; key: string; reason: string }
  | { type: "log"; level: "info" | "warn"; message: string };

export type EmitFn = (event: EngineEvent) => void;

/**
 * One object in the cloud (or on the Docker engine) that carries this stack's
 * tags/labels (`pilot:stack=<name>`), or its deterministic name where a kind
 * takes no tag filter. Whether it is an orphan is decided against state by the
 * caller, not by the provider.
 */
export interface TaggedResource {
  /** The kind's type ("aws.ec2.subnet"), so that kind's delete() can remove it. */
  type: string;
  /** The id a kind uses for it (as state would record it). */
  id: string;
  out?: Record<string, unknown>;
  /** Its lineage tag (`pilot:stack-id`) and node key tag (`pilot:key`), when it has them. */
  lineage?: string;
  key?: string;
  /** Objects it uses, which may only be deleted after it (a subnet uses its VPC; an instance its subnet and groups). */
  uses: { type: string; id: string }[];
}
