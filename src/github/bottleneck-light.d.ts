// bottleneck/light.js (the build the Octokit plugins use: no Redis clustering) has the main build's API.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
