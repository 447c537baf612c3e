{
  "targets": [
    {
      "target_name": "troupe",
      "sources": [
        "native/sys/busy_wait.cc",
        "native/sys/inotify.cc",
        "native/sys/poller.cc",
        "native/sys/socket.cc",
        "native/sys/signal.cc",
        "native/sys/tls.cc",
        "native/binding/addon.cc",
        "native/binding/busy_wait.cc",
        "native/binding/notify.cc",
        "native/binding/poller.cc",
        "native/binding/socket.cc",
        "native/binding/uv_poll_js.cc",
        "native/binding/watch.cc",
        "native/binding/signal.cc",
        "native/binding/tls.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "<!(node -p \"process.env.CI ? '-Werror' : ''\")"]
    }
  ]
}
