// The benchmark prompt: plain English text that llama.cpp's Llama 3 tokenizer (the one wllama and node-llama-cpp
// share) turns into exactly N tokens including BOS. Built once per bench from the first model's vocabulary.

export const BASE_TEXT = "The old lighthouse keeper climbed the spiral stairs every evening before sunset. He carried a "
  + "small lamp, a notebook and a thermos of tea, and he wrote down the weather, the ships he saw and the birds that "
  + "rested on the rail. Over forty years the notebooks filled three shelves in the cottage below. Visitors sometimes "
  + "asked him whether the work was lonely. He always answered that the sea was never quiet long enough for that, "
  + "and that the light needed someone who listened to it. When the coast guard finally replaced the lamp with an "
  + "automatic beacon, he kept climbing the stairs anyway, because the birds still came and somebody had to count "
  + "them. The village children learned to read the sky from his notes, and the fishermen trusted his forecasts more "
  + "than the radio. On the last page of the final notebook he wrote a short list of things he had learned: that "
  + "storms announce themselves to patient people, that every gull has its own voice, and that a steady light is "
  + "worth more than a bright one.";

export const WARMUP_TEXT = "Once upon a time";

/**
 * @returns {Promise<{text: string, tokens: number}>} text whose tokenization (plus BOS) has exactly `total` tokens.
 */
export async function buildPrompt(modelPath, total) {
  // imported here, not at the top: gpu-node.mjs takes BASE_TEXT on machines without node-llama-cpp
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ build: "never", gpu: false, skipDownload: true, progressLogs: false,
    logLevel: LlamaLogLevel.error, maxThreads: 1 });
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  try {
    const ids = model.tokenize(BASE_TEXT, false);
    const want = total - 1; // BOS is added by every engine
    if (ids.length < want) throw new Error(`prompt base text has only ${ids.length} tokens, need ${want}`);
    for (let n = want; n <= want + 3 && n <= ids.length; n++) {
      for (const text of [model.detokenize(ids.slice(0, n)), model.detokenize(ids.slice(0, n)).trimEnd()]) {
        if (model.tokenize(text, false).length === want) return { text, tokens: total };
      }
    }
    throw new Error(`could not cut the prompt to exactly ${want} tokens`);
  } finally {
    await model.dispose();
    await llama.dispose();
  }
}
