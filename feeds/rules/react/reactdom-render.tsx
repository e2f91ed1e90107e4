import React from "react";
import ReactDOM from "react-dom";
// ruleid: react/reactdom-render
import { render, unmountComponentAtNode } from "react-dom";
// ok: react/reactdom-render
import { createRoot, hydrateRoot } from "react-dom/client";
// ok: react/reactdom-render
import { renderToString } from "react-dom/server";
import App from "./App";

const container = document.getElementById("root")!;

// ruleid: react/reactdom-render
ReactDOM.render(<App />, container);
// ruleid: react/reactdom-render
ReactDOM.hydrate(
  <App />,
  container,
);
// ruleid: react/reactdom-render
render(<App />, container) && unmountComponentAtNode(container) && ReactDOM.unmountComponentAtNode(container);

// ok: react/reactdom-render
createRoot(container).render(<App />);
// ok: react/reactdom-render
hydrateRoot(container, <App />);
// ok: react/reactdom-render
// ReactDOM.render(<App />, container);
// ok: react/reactdom-render
const html = renderToString(<App />) + ReactDOMServer.renderToStaticMarkup(<App />);
