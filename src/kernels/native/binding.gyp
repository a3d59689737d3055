{
  "targets": [
    {
      "target_name": "physode_blas",
      "sources": ["blas.c"],
      "cflags": ["-O2", "-std=c11"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }]
      ]
    }
  ]
}
