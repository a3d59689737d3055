/*
 * physode's optional native matrix product: a Node-API addon that calls the system's CBLAS
 * (OpenBLAS, MKL, BLIS or Apple's Accelerate) on float32 matrices that live in the WebAssembly
 * kernels' shared memory, so the vector field's large products run at the CPU's full vector width
 * (AVX2/AVX-512 with FMA) instead of WebAssembly's 128-bit SIMD. Loaded by ../native-blas.ts;
 * built by ./build.mjs (node-gyp, ./binding.gyp) at `npm install`. The BLAS library is opened at
 * run time (dlopen), not linked, so the addon builds without BLAS headers and a machine without a
 * BLAS simply keeps the WebAssembly kernels.
 *
 * Exports:
 *   open(paths: string[]) -> { path, config }  opens the first library that has cblas_sgemm
 *   setThreads(n)                               the library's own threads (OpenBLAS, BLIS, MKL)
 *   sgemm(view, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias)
 *       c = alpha·op(a)·op(b) + beta·c on row-major float32 matrices at float offsets a, b, c of
 *       the Float32Array view (its buffer may be a SharedArrayBuffer); op(x) is xᵀ where the
 *       trans flag (a number, as the kernel threads pass every argument) is nonzero; bias ≥ 0:
 *       every row of c is first set to the N floats at that offset (and beta is then 1), −1:
 *       none. Every extent is checked against the view before the library is called.
 *
 * The library state is process-wide (one dlopen handle): a worker thread that loads this addon
 * after the main thread opened a library can call sgemm at once.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
static void *open_library(const char *path) { return (void *)LoadLibraryA(path); }
static void *find_symbol(void *lib, const char *name) { return (void *)GetProcAddress((HMODULE)lib, name); }
static const char *open_error(void) { return "LoadLibrary failed"; }
#else
#include <dlfcn.h>
static void *open_library(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static void *find_symbol(void *lib, const char *name) { return dlsym(lib, name); }
static const char *open_error(void) {
  const char *e = dlerror();
  return e ? e : "unknown error";
}
#endif

/* CBLAS enumerations (the values every CBLAS uses). */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

typedef void (*sgemm_fn)(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);
typedef void (*set_threads_fn)(int n);
typedef char *(*config_fn)(void);

static sgemm_fn cblas_sgemm_ptr = NULL;
static set_threads_fn set_threads_ptr = NULL;

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return throw_last(env);                                                                     \
  } while (0)

static napi_value throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "Node-API call failed");
  return NULL;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

static napi_value set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (value == NULL) {
    if (napi_get_null(env, &v) != napi_ok) return NULL;
  } else if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) != napi_ok) {
    return NULL;
  }
  return napi_set_named_property(env, obj, key, v) == napi_ok ? obj : NULL;
}

/* open(paths: string[]) */
static napi_value Open(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  bool is_array = false;
  if (argc < 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "open: expected an array of library paths");
    return NULL;
  }
  uint32_t count = 0;
  CHECK(napi_get_array_length(env, argv[0], &count));
  char errors[2048] = "";
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    char path[1024];
    size_t len = 0;
    CHECK(napi_get_element(env, argv[0], i, &item));
    if (napi_get_value_string_utf8(env, item, path, sizeof path, &len) != napi_ok || len >= sizeof path - 1) continue;
    void *lib = open_library(path);
    if (lib == NULL) {
      size_t used = strlen(errors);
      snprintf(errors + used, sizeof errors - used, "%s%s", used ? "; " : "", open_error());
      continue;
    }
    sgemm_fn gemm = (sgemm_fn)find_symbol(lib, "cblas_sgemm");
    if (gemm == NULL) {
      size_t used = strlen(errors);
      snprintf(errors + used, sizeof errors - used, "%s%s: no cblas_sgemm", used ? "; " : "", path);
      continue;
    }
    cblas_sgemm_ptr = gemm;
    set_threads_ptr = (set_threads_fn)find_symbol(lib, "openblas_set_num_threads");
    if (set_threads_ptr == NULL) set_threads_ptr = (set_threads_fn)find_symbol(lib, "bli_thread_set_num_threads");
    if (set_threads_ptr == NULL) set_threads_ptr = (set_threads_fn)find_symbol(lib, "MKL_Set_Num_Threads");
    config_fn config = (config_fn)find_symbol(lib, "openblas_get_config");
    napi_value result;
    CHECK(napi_create_object(env, &result));
    if (set_string(env, result, "path", path) == NULL) return throw_last(env);
    if (set_string(env, result, "config", config ? config() : NULL) == NULL) return throw_last(env);
    return result;
  }
  napi_throw_error(env, NULL, errors[0] ? errors : "no library paths given");
  return NULL;
}

/* setThreads(n): true when the library lets its thread count be set. */
static napi_value SetThreads(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  CHECK(napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return throw_range(env, "setThreads: expected a positive integer");
  napi_value result;
  if (set_threads_ptr) set_threads_ptr(n);
  CHECK(napi_get_boolean(env, set_threads_ptr != NULL, &result));
  return result;
}

/* A non-negative integer argument below 2^31. */
static bool get_index(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0 && d < 2147483648.0) || d != (double)(int64_t)d) return false;
  *out = (int64_t)d;
  return true;
}

/* Whether a rows × cols matrix at offset off with row stride ld (≥ cols) lies within n floats. */
static bool fits(int64_t off, int64_t rows, int64_t cols, int64_t ld, int64_t n) {
  if (ld < (cols > 1 ? cols : 1)) return false;
  if (rows == 0 || cols == 0) return off <= n;
  return off + (rows - 1) * ld + cols <= n;
}

/* sgemm(view, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias) */
static napi_value Sgemm(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  if (argc != 15) return throw_range(env, "sgemm: expected 15 arguments");
  if (cblas_sgemm_ptr == NULL) {
    napi_throw_error(env, NULL, "sgemm: no BLAS library is open (call open first)");
    return NULL;
  }
  bool is_typed = false;
  CHECK(napi_is_typedarray(env, argv[0], &is_typed));
  if (!is_typed) return throw_range(env, "sgemm: the view must be a Float32Array");
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL));
  if (type != napi_float32_array || data == NULL) return throw_range(env, "sgemm: the view must be a non-empty Float32Array");
  int32_t transA = 0, transB = 0;
  CHECK(napi_get_value_int32(env, argv[1], &transA));
  CHECK(napi_get_value_int32(env, argv[2], &transB));
  int64_t M, N, K, a, lda, b, ldb, c, ldc;
  double alpha, beta, bias;
  if (!get_index(env, argv[3], &M) || !get_index(env, argv[4], &N) || !get_index(env, argv[5], &K) || !get_index(env, argv[7], &a) ||
      !get_index(env, argv[8], &lda) || !get_index(env, argv[9], &b) || !get_index(env, argv[10], &ldb) ||
      !get_index(env, argv[12], &c) || !get_index(env, argv[13], &ldc)) {
    return throw_range(env, "sgemm: sizes, offsets and strides must be integers from 0 to 2^31 - 1");
  }
  CHECK(napi_get_value_double(env, argv[6], &alpha));
  CHECK(napi_get_value_double(env, argv[11], &beta));
  CHECK(napi_get_value_double(env, argv[14], &bias));
  const int64_t n = (int64_t)length;
  /* Stored shapes: op(a) is M × K, so a is K × M when transposed; likewise b. */
  if (!fits(a, transA ? K : M, transA ? M : K, lda, n)) return throw_range(env, "sgemm: matrix a does not fit its view");
  if (!fits(b, transB ? N : K, transB ? K : N, ldb, n)) return throw_range(env, "sgemm: matrix b does not fit its view");
  if (!fits(c, M, N, ldc, n)) return throw_range(env, "sgemm: matrix c does not fit its view");
  float *base = (float *)data;
  float *C = base + c;
  if (bias >= 0) {
    if (bias != (double)(int64_t)bias || !fits((int64_t)bias, 1, N, N, n)) return throw_range(env, "sgemm: the bias does not fit its view");
    const float *row = base + (int64_t)bias;
    for (int64_t i = 0; i < M; i++) memcpy(C + i * ldc, row, (size_t)N * sizeof(float));
    beta = 1;
  }
  if (M == 0 || N == 0) return NULL;
  if (K == 0) {
    /* No products: c = beta·c (BLAS libraries differ on K = 0; spell it out). */
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0 ? 0.0f : (float)beta * C[i * ldc + j];
    return NULL;
  }
  cblas_sgemm_ptr(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, (int)M, (int)N, (int)K, (float)alpha, base + a, (int)lda,
                  base + b, (int)ldb, (float)beta, C, (int)ldc);
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
