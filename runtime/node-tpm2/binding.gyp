{
  "targets": [
    {
      "target_name": "tpm2",
      "sources": [
        "src/native/addon.cc",
        "src/native/ops_basic.cc",
        "src/native/ops_keys.cc",
        "src/native/ops_policy.cc",
        "src/native/templates.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ltss2-esys", "-ltss2-tctildr", "-ltss2-mu", "-ltss2-rc"]
    }
  ]
}
