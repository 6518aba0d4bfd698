// Server-sent events read from a fetch Response (EventSource cannot send an Authorization or
// CSRF header): each event's name and data, the data parsed as JSON when it is JSON. The
// console's API client and the public share page both read their streams through it.
export async function readEvents(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      let parsed = data;
      try { parsed = JSON.parse(data); } catch { /* plain text */ }
      onEvent(event, parsed, data);
    }
  }
}
