// Runs only in browsers without ES modules (nomodule): they cannot run the portal.
var box = document.getElementById('unsupported');
var app = document.getElementById('app');
if (app) app.hidden = true;
if (box) box.hidden = false;
