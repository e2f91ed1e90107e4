import ReactDOM from "react-dom";
import App from "./App";

// ruleid: react/reactdom-render
ReactDOM.render(<App />, document.getElementById("root"));
