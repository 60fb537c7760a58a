/** The dashboard's entry point: defines every element; `<jn-app>` in index.html does the rest. */
import './app.js';
