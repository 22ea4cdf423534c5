export type { FakeGlm, FakeGlmOptions, FakeGlmRecord } from "./fake-glm.ts";
export { startFakeGlm } from "./fake-glm.ts";
export type {
  ChatMessage,
  ChatRequestBody,
  DefaultScriptOptions,
  FakeGlmContext,
  FakeGlmRequestKind,
  FakeGlmScript,
  FakeGlmScriptFn,
  FakeGlmToolCall,
  FakeGlmTurn,
} from "./fake-glm-script.ts";
export { defaultTurn, STRUCTURED_OUTPUT_TOOL } from "./fake-glm-script.ts";
export { removeDir, tempDir } from "./temp.ts";
export type { Truthy, WaitForOptions } from "./wait.ts";
export { waitFor } from "./wait.ts";
