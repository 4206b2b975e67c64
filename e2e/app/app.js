// Lists prospects and creates them, and shows each way a request can end: loading, an
// answer, a server error, a network failure, an answer that is not JSON.
const API = new URLSearchParams(location.search).get("api");
const PROSPECTS = `${API}/api/crm/prospect`;
const HEADERS = { Authorization: "Bearer sk_test_e2e", Accept: "application/json" };

const banner = document.getElementById("banner");
const loading = document.getElementById("loading");
const form = document.getElementById("create");
const list = document.getElementById("prospects");
let pending = 0;

// A failure whose message is meant for the person using the app.
class Failure extends Error {}

async function call(url, init = {}) {
  pending += 1;
  loading.hidden = false;
  try {
    let response;
    try {
      response = await fetch(url, { ...init, headers: { ...HEADERS, ...init.headers } });
    } catch {
      throw new Failure("Cannot reach the server: you seem to be offline.");
    }
    if (response.status >= 500) {
      throw new Failure(`Something went wrong (${response.status}).`);
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new Failure("The server sent a broken answer.");
    }
    if (!response.ok) throw new Failure(body.detail ?? `The server refused (${response.status}).`);
    return body;
  } finally {
    pending -= 1;
    loading.hidden = pending === 0;
  }
}

function show(message) {
  banner.textContent = message;
  banner.hidden = !message;
}

async function run(action) {
  show("");
  try {
    await action();
  } catch (error) {
    show(error instanceof Failure ? error.message : `The app failed: ${error}`);
  }
}

async function refresh() {
  const { data } = await call(`${PROSPECTS}?limit=100`);
  list.replaceChildren(
    ...data.map((prospect) => {
      const item = document.createElement("li");
      item.textContent = prospect.company;
      return item;
    }),
  );
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const company = form.elements.company.value;
  run(async () => {
    await call(PROSPECTS, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ company }),
    });
    form.reset();
    await refresh();
  });
});

if (API) run(refresh);
else show("Open this page with ?api=<the mock's base URL>.");
