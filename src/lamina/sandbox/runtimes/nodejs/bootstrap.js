// Lamina's Node.js runtime: Lambda's Node programming model on top of the Runtime API 2018-06-01.
//
// Handler "file.export" (file resolved under LAMBDA_TASK_ROOT, .js/.mjs/.cjs); async handlers (a returned
// promise), callback handlers (event, context, callback) and context.succeed/fail/done all work. Errors are
// reported as Node's Lambda runtime does: {errorType, errorMessage, trace: [stack lines]}; console output
// is "<ISO time>\t<request id>\t<LEVEL>\t<message>" with newlines turned into carriage returns, so one
// console call stays one log event.
//
// Response streaming as AWS's Node runtime offers it: the `awslambda` global's streamifyResponse(handler)
// marks a handler (event, responseStream, context) whose responseStream is the chunked
// `POST …/response` itself (Lambda-Runtime-Function-Response-Mode: streaming; errors after the first
// bytes go in the Lambda-Runtime-Function-Error-Type / -Error-Body trailers), and
// awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies}) writes the JSON prelude and
// 8 NUL bytes a function URL reads its status and headers from.
"use strict";

const http = require("http");
const path = require("path");
const fs = require("fs");
const util = require("util");
const url = require("url");

const [apiHost, apiPort] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const PREFIX = "/2018-06-01/runtime";
let currentRequestId = "";

function request(method, pathname, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: apiHost, port: apiPort, method, path: PREFIX + pathname, agent, headers: headers || {} },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function patchConsole() {
  const write = (level) => (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${util.format(...args)}`;
    process.stdout.write(line.replace(/\n/g, "\r") + "\n");
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
}

function errorDocument(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: typeof err.stack === "string" ? err.stack.split("\n") : [],
    };
  }
  return { errorType: typeof err === "string" ? "string" : typeof err, errorMessage: String(err), trace: [] };
}

class UserError extends Error {}

const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HANDLER_HIGHWATERMARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");
const STREAM_RESPONSE = "response";
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION);
    const metadata = JSON.stringify(prelude); // JSON, so no NUL byte can appear before the delimiter
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

globalThis.awslambda = {
  streamifyResponse: (handler, options) => {
    handler[HANDLER_STREAMING] = STREAM_RESPONSE;
    if (typeof (options && options.highWaterMark) === "number") handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
    return handler;
  },
  HttpResponseStream,
};

function named(name, message, cause) {
  const err = new UserError(message);
  err.name = name;
  if (cause && cause.stack) err.stack = `${name}: ${message}\n${cause.stack.split("\n").slice(1).join("\n")}`;
  return err;
}

async function loadHandler() {
  const handlerString = process.env._HANDLER || "";
  const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
  // As Node's Lambda runtime: the module ends at the first dot after the last slash ("dir/index.a.b").
  const dot = handlerString.indexOf(".", handlerString.lastIndexOf("/") + 1);
  if (dot < 0) {
    throw named("Runtime.MalformedHandlerName", `Bad handler ${handlerString}`);
  }
  const moduleName = handlerString.slice(0, dot);
  const exportPath = handlerString.slice(dot + 1).split(".");
  const base = path.resolve(taskRoot, moduleName);
  let mod;
  const candidates = [".js", ".mjs", ".cjs"].map((ext) => base + ext).filter((p) => fs.existsSync(p));
  try {
    if (candidates.length === 0) {
      mod = require(base);
    } else if (candidates[0].endsWith(".mjs")) {
      mod = await import(url.pathToFileURL(candidates[0]).href);
    } else {
      mod = require(candidates[0]);
    }
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw named("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`, err);
    }
    if (err && err.code === "MODULE_NOT_FOUND") {
      throw named("Runtime.ImportModuleError", `Error: Cannot find module '${moduleName}'`, err);
    }
    throw err;
  }
  let fn = mod;
  for (const part of exportPath) fn = fn == null ? undefined : fn[part];
  if (typeof fn !== "function") {
    throw named("Runtime.HandlerNotFound", `${handlerString} is undefined or not exported`);
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
  if (headers["lambda-runtime-client-context"]) context.clientContext = JSON.parse(headers["lambda-runtime-client-context"]);
  if (headers["lambda-runtime-cognito-identity"]) context.identity = JSON.parse(headers["lambda-runtime-cognito-identity"]);
  return context;
}

function logInvokeError(doc) {
  console.error("Invoke Error \t" + JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
}

// The response stream of one invocation: the streaming POST, written as the function writes.
function responseStream(requestId) {
  let started = false;
  const req = http.request({
    host: apiHost,
    port: apiPort,
    method: "POST",
    path: `${PREFIX}/invocation/${requestId}/response`,
    agent,
    headers: {
      "Lambda-Runtime-Function-Response-Mode": "streaming",
      Trailer: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
      "Content-Type": "application/octet-stream",
      "Transfer-Encoding": "chunked",
    },
  });
  const done = new Promise((resolve, reject) => {
    req.on("response", (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
  });
  done.catch(() => {});
  req.setContentType = (contentType) => {
    if (started) throw named("Runtime.InvalidStreamingOperation", "Cannot set content-type, too late.");
    req.setHeader("Content-Type", contentType);
  };
  const write = req.write.bind(req);
  req.write = (chunk, encoding, callback) => {
    if (typeof chunk !== "string" && !Buffer.isBuffer(chunk) && !(chunk instanceof Uint8Array)) chunk = JSON.stringify(chunk);
    if (!started && typeof req._onBeforeFirstWrite === "function") req._onBeforeFirstWrite((c) => write(c));
    started = true;
    return write(chunk, encoding, callback);
  };
  const end = req.end.bind(req);
  req.end = (chunk, encoding, callback) => {
    if (!started && typeof req._onBeforeFirstWrite === "function") req._onBeforeFirstWrite((c) => write(c));
    started = true;
    return end(chunk, encoding, callback);
  };
  const fail = (err) => {
    const doc = errorDocument(err);
    logInvokeError(doc);
    if (req.writableEnded) return;
    req.addTrailers({
      "Lambda-Runtime-Function-Error-Type": doc.errorType,
      "Lambda-Runtime-Function-Error-Body": Buffer.from(JSON.stringify(doc)).toString("base64"),
    });
    end();
  };
  return { stream: req, done, fail };
}

async function invokeStreaming(handler, event, context, requestId) {
  const { stream, done, fail } = responseStream(requestId);
  try {
    const returned = handler(event, stream, context);
    if (!returned || typeof returned.then !== "function") {
      fail(named("Runtime.InvalidStreamingOperation", "Streaming does not support non-async handlers."));
    } else {
      const result = await returned;
      if (result !== undefined) console.warn("Streaming handlers ignore return values.");
      if (!stream.writableEnded) fail(named("Runtime.InvalidStreamingOperation", "Response stream is not finished."));
    }
  } catch (err) {
    fail(err);
  }
  await done.catch(() => {});
}

async function invokeOnce(handler, next) {
  const requestId = next.headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
  const context = makeContext(next.headers);
  let event;
  try {
    event = JSON.parse(next.body.toString("utf8"));
  } catch (err) {
    return post(requestId, { error: named("Runtime.UnmarshalError", `Unable to parse input as json: ${err.message}`) });
  }
  if (handler[HANDLER_STREAMING] === STREAM_RESPONSE) return invokeStreaming(handler, event, context, requestId);
  const outcome = await new Promise((resolve) => {
    let settled = false;
    const finish = (error, result) => {
      if (!settled) {
        settled = true;
        resolve({ error, result });
      }
    };
    const callback = (error, result) => finish(error === null || error === undefined ? undefined : error, result);
    context.succeed = (result) => finish(undefined, result);
    context.fail = (error) => finish(error === undefined ? new Error("handled") : error);
    context.done = callback;
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === "function") {
        returned.then((result) => finish(undefined, result), (error) => finish(error === undefined ? new Error("undefined") : error));
      } else if (handler.length < 3) {
        finish(undefined, returned);
      }
    } catch (error) {
      finish(error);
    }
  });
  return post(requestId, outcome);
}

async function post(requestId, outcome) {
  if (outcome.error !== undefined) {
    const doc = errorDocument(outcome.error);
    logInvokeError(doc);
    return request("POST", `/invocation/${requestId}/error`, JSON.stringify(doc), {
      "Content-Type": "application/json",
      "Lambda-Runtime-Function-Error-Type": doc.errorType,
    });
  }
  let body;
  try {
    body = outcome.result === undefined ? "null" : JSON.stringify(outcome.result);
  } catch (err) {
    return post(requestId, { error: named("Runtime.MarshalError", `Unable to stringify response body: ${err.message}`) });
  }
  return request("POST", `/invocation/${requestId}/response`, body === undefined ? "null" : body, {
    "Content-Type": "application/json",
  });
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    const doc = errorDocument(err);
    console.error(JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
    await request("POST", "/init/error", JSON.stringify(doc), {
      "Content-Type": "application/json",
      "Lambda-Runtime-Function-Error-Type": doc.errorType,
    });
    process.exit(129);
  }
  process.on("uncaughtException", (err) => {
    const doc = errorDocument(err);
    console.error(JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
    process.exit(129);
  });
  for (;;) {
    const next = await request("GET", "/invocation/next");
    await invokeOnce(handler, next);
  }
}

main();
