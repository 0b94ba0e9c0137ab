// Firebase sign-in (templates/accounts/_firebase_signin.html): the browser SDK signs the visitor
// in with Google or email, and the site trusts only the ID token it then checks on the server.
// With data-link-url the same buttons link that Firebase account to the signed-in one instead.
// The SDK's modules come from data-sdk-url (the site's own copy unless FIREBASE_JS_SDK_URL names
// another place), and with data-auth-emulator-url it talks to a Firebase Auth emulator.
const root = document.getElementById("firebase-signin");
const config = JSON.parse(document.getElementById("firebase-config").textContent);
const errorSlot = root.querySelector("[data-firebase-error]");
const statusSlot = root.querySelector("[data-firebase-status]");
const linkUrl = root.dataset.linkUrl;
// The email a sign-in link was sent to, so the link can be completed in the same browser.
const EMAIL_FOR_LINK = "rollerai.firebaseEmailForLink";

const FIREBASE_MESSAGES = {
  "auth/invalid-credential": "Wrong email or password.",
  "auth/wrong-password": "Wrong email or password.",
  "auth/user-not-found": "No login has this email yet: create one.",
  "auth/email-already-in-use": "A login with this email already exists: sign in instead.",
  "auth/weak-password": "Choose a longer password (at least 6 characters).",
  "auth/invalid-email": "Enter a valid email address.",
  "auth/missing-password": "Enter your password.",
  "auth/popup-blocked": "Your browser blocked the sign-in window; allow pop-ups and try again.",
  "auth/too-many-requests": "Too many attempts. Wait a minute and try again.",
  "auth/network-request-failed": "Could not reach Firebase. Check your connection and try again.",
  "auth/invalid-action-code": "This sign-in link has expired or was already used. Ask for a new one.",
};
// Closing the window is a choice, not an error.
const QUIET_FIREBASE_CODES = new Set(["auth/popup-closed-by-user", "auth/cancelled-popup-request"]);


function showError(message) { errorSlot.textContent = message; }

function showStatus(message) { statusSlot.textContent = message; }

function showFirebaseError(error) {
  if (QUIET_FIREBASE_CODES.has(error.code)) return;
  showError(FIREBASE_MESSAGES[error.code] || "Sign-in did not work. Please try again.");
}

function csrfToken() {
  return root.querySelector("input[name=csrfmiddlewaretoken]").value;
}

function setBusy(busy) {
  root.querySelectorAll("button").forEach((button) => { button.disabled = busy; });
}

// Hands the Firebase ID token to the site, which signs in (or links) and answers in the JSON
// error shape when it refuses.
async function sendToSite(user) {
  const idToken = await user.getIdToken();
  const response = await fetch(linkUrl || root.dataset.signInUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ id_token: idToken, next: root.dataset.next || undefined }),
  });
  // The site keeps its own session; a lingering Firebase one would only confuse a later sign-in.
  await signOut(auth);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : null;
    showError(message || (response.status === 403
      ? "Your session expired. Reload the page and try again."
      : "Sign-in did not work. Please try again."));
    return;
  }
  if (linkUrl) {
    window.location.reload();
  } else {
    window.location.assign(body.redirect);
  }
}

async function run(action) {
  showError("");
  showStatus("");
  setBusy(true);
  try {
    const credential = await action();
    if (credential) await sendToSite(credential.user);
  } catch (error) {
    if (error && error.code) showFirebaseError(error); else showError("Sign-in did not work. Please try again.");
  } finally {
    setBusy(false);
  }
}

async function sendEmailLink(email) {
  await sendSignInLinkToEmail(auth, email, { url: window.location.href, handleCodeInApp: true });
  window.localStorage.setItem(EMAIL_FOR_LINK, email);
  showStatus(`We sent a sign-in link to ${email}. Open it in this browser.`);
  return null;
}

let sdk;
try {
  const sdkFolder = new URL(root.dataset.sdkUrl, window.location.href);
  const [app, authModule] = await Promise.all([
    import(new URL("firebase-app.js", sdkFolder).href),
    import(new URL("firebase-auth.js", sdkFolder).href),
  ]);
  sdk = { ...app, ...authModule };
} catch (error) {
  showError("Google and email sign-in could not load. Reload the page, or sign in with your password.");
  throw error;
}
const {
  GoogleAuthProvider,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  initializeApp,
  inMemoryPersistence,
  isSignInWithEmailLink,
  sendSignInLinkToEmail,
  setPersistence,
  signInWithEmailAndPassword,
  signInWithEmailLink,
  signInWithPopup,
  signOut,
} = sdk;

const auth = getAuth(initializeApp(config));
if (root.dataset.authEmulatorUrl) {
  // The widget says so itself; Firebase's own banner would cover the page's controls.
  connectAuthEmulator(auth, root.dataset.authEmulatorUrl, { disableWarnings: true });
}
// The site's session is the only one that matters, so Firebase keeps nothing in the browser.
await setPersistence(auth, inMemoryPersistence);

const googleButton = root.querySelector("[data-firebase-google]");
if (googleButton) {
  googleButton.addEventListener("click", () => {
    const provider = new GoogleAuthProvider();
    provider.setCustomParameters({ prompt: "select_account" });
    run(() => signInWithPopup(auth, provider));
  });
}

const emailForm = root.querySelector("[data-firebase-email]");
if (emailForm) {
  emailForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = emailForm.elements.namedItem("email").value.trim();
    const password = emailForm.elements.namedItem("password").value;
    const action = event.submitter ? event.submitter.value : "sign-in";
    if (!email) { showError("Enter your email address."); return; }
    if (action === "link" || (action === "sign-in" && !password)) {
      run(() => sendEmailLink(email));
    } else if (action === "create") {
      run(() => createUserWithEmailAndPassword(auth, email, password));
    } else {
      run(() => signInWithEmailAndPassword(auth, email, password));
    }
  });
}

// Ready: the buttons stay disabled until now, so nothing is sent before the SDK can handle it.
setBusy(false);
root.dataset.ready = "true";

// Coming back from an emailed sign-in link: finish signing in with it.
if (isSignInWithEmailLink(auth, window.location.href)) {
  const email = window.localStorage.getItem(EMAIL_FOR_LINK)
    || window.prompt("Confirm the email address the sign-in link was sent to:");
  if (email) {
    window.localStorage.removeItem(EMAIL_FOR_LINK);
    run(() => signInWithEmailLink(auth, email, window.location.href));
  }
}
