// The demo page's elements, and the few ways the modules write to them.
export const $ = (id) => document.getElementById(id)

/** The socket's URL, relative to the page: the demo works under any prefix. */
export function wsUrl () {
  const url = new URL('ws', document.location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.toString()
}

export function notice (text) {
  $('notice').textContent = text
}

export function setConnected (connected) {
  $('text').disabled = !connected
  $('send').disabled = !connected
}

/** A line in the message list (before `before`, else last): `parts` are [class, text] pairs. */
export function addLine (className, parts, before = null) {
  const li = document.createElement('li')
  li.className = className
  for (const [cls, text] of parts) {
    const span = document.createElement('span')
    span.className = cls
    span.textContent = text // never innerHTML: `data` comes from any client
    li.append(span)
  }
  if (before === null) $('messages').append(li)
  else $('messages').insertBefore(li, before)
  li.scrollIntoView({ block: 'end' })
  return li
}
