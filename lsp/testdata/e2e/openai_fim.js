// Calls dfim's HTTP server (`dfim serve --http`) with the official OpenAI
// JavaScript SDK: completions.create with a suffix, whole and streamed, a
// malformed request, a wrong key, and models.list. It prints one JSON
// report on stdout; lsp/httpapi's TestOpenAIJavaScriptSDK checks it.
//
// Usage: node openai_fim.js BASE_URL API_KEY
'use strict';
const mod = require('openai');
const OpenAI = mod.OpenAI || mod.default || mod;

async function main() {
  const [baseURL, apiKey] = process.argv.slice(2);
  const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey, maxRetries: 0, timeout: 120000 });
  const prompt = 'package stack\n\ntype Stack struct{ items []int }\n\nfunc (s *Stack) Len() int {\n\treturn len(s.items)\n}\n\nfunc (s *Stack) Size() int {\n\treturn ';
  const suffix = '\n}\n';
  // language and min_confidence are dfim's own fields; the SDK sends them as given.
  const params = { model: 'dfim', prompt, suffix, max_tokens: 24, temperature: 0, language: 'go', min_confidence: 0 };

  const whole = await client.completions.create(params);

  const stream = await client.completions.create({ ...params, stream: true });
  let streamed = '';
  let finish = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    for (const c of chunk.choices) {
      streamed += c.text || '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }

  let bad = null;
  try {
    await client.completions.create({ model: 'dfim', prompt: 42 });
  } catch (e) {
    bad = { status: e.status, message: e.error && e.error.message, type: e.error && e.error.type };
  }

  let auth = null;
  try {
    await new OpenAI({ baseURL: baseURL + '/v1', apiKey: 'wrong', maxRetries: 0 }).completions.create(params);
  } catch (e) {
    auth = { status: e.status, name: e.constructor.name };
  }

  const models = [];
  for await (const m of client.models.list()) models.push(m.id);

  console.log(JSON.stringify({
    ok: true,
    object: whole.object,
    text: whole.choices[0].text,
    finish: whole.choices[0].finish_reason,
    usage: whole.usage,
    streamed, streamFinish: finish, chunks, bad, auth, models,
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
