// The lightbox: opens a result over the page, with arrow keys through its batch.
"use strict";
