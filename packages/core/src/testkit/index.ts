export type { FakeGlm, FakeGlmOptions, FakeGlmRecord, FakeGlmRejection } from "./fake-glm.ts";
export { startFakeGlm } from "./fake-glm.ts";
export type {
  ChatMessage,
  ChatRequestBody,
  DefaultScriptOptions,
  FakeGlmContext,
  FakeGlmError,
  FakeGlmErrorFn,
  FakeGlmErrors,
  FakeGlmErrorWindow,
  FakeGlmRequestKind,
  FakeGlmScript,
  FakeGlmScriptFn,
  FakeGlmToolCall,
  FakeGlmTurn,
} from "./fake-glm-script.ts";
export {
  defaultTurn,
  glmErrorMessage,
  glmQuotaMessage,
  glmResetTime,
  STRUCTURED_OUTPUT_TOOL,
} from "./fake-glm-script.ts";
export type { FakeGlmUsage } from "./fake-glm-sse.ts";
export { usageFor } from "./fake-glm-sse.ts";
export { removeDir, tempDir } from "./temp.ts";
export type { Truthy, WaitForOptions } from "./wait.ts";
export { waitFor } from "./wait.ts";
