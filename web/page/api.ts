// The GraphQL API: questions over HTTP, live alerts over WebSocket (graphql-transport-ws).

export async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => null);
  if (!body) throw new Error(`the API answered ${response.status}, not GraphQL`);
  if (body.errors?.length) throw new Error(`the API refused the question: ${body.errors[0].message}`);
  return body.data as T;
}

/** Subscribes to `query`; `onData` gets each pushed `data`. Returns a function that stops it. */
export function subscribe(
  httpUrl: string,
  query: string,
  variables: Record<string, unknown>,
  onData: (data: any) => void,
  onProblem: (message: string) => void,
  onSubscribed: () => void = () => {},
): () => void {
  const url = new URL(`${httpUrl}/ws`, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, 'graphql-transport-ws');
  let stopped = false;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init' }));
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data));
    if (message.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
      onSubscribed();
    } else if (message.type === 'next') {
      if (message.payload?.errors?.length) onProblem(message.payload.errors[0].message);
      else onData(message.payload.data);
    } else if (message.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong' }));
    } else if (message.type === 'error') {
      onProblem(message.payload?.[0]?.message ?? 'the live updates failed');
    }
  };
  ws.onclose = () => {
    if (!stopped) onProblem('live updates stopped: reload the page to see new activity');
  };
  return () => {
    stopped = true;
    ws.close();
  };
}
