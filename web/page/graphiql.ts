// GraphiQL, built into the binary and served at GET /graphql: no code or style is fetched
// from anywhere but this server, so it works offline and tells no third party who visits.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';

const here = new URL('/graphql', window.location.href);
const ws = new URL('/graphql/ws', window.location.href);
ws.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({ url: here.toString(), subscriptionUrl: ws.toString() });
const root = document.getElementById('graphiql');
if (root) {
  createRoot(root).render(createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
}
